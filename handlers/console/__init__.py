"""The console platform: a terminal where one person talks to the bot, no credentials needed."""

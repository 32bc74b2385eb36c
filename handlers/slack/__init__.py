"""The Slack edge: slack-bolt in, Block Kit and the Web API out."""

"""The domain: rituals, their grammar, schedules and messages, free of any chat platform."""

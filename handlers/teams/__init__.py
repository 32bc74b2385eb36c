"""The Microsoft Teams edge (botbuilder)."""

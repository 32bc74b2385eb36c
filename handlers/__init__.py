"""The edges: each platform's payloads become ritual calls, and messages become its format."""

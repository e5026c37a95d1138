"""The steward command: runs the embedded stack and talks to Steward through the bus and HTTP."""

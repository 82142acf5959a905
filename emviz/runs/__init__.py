"""Work off the GUI thread: background tasks, EM runners (thread and process), pacing."""

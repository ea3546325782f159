"""The service side: the event loop that watches the folders, runs imports in lanes, archives, recovers and answers health checks."""

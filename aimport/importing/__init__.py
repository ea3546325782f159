"""The import side: what runs in a worker process for one file (read, stage, apply) and its outcome."""

"""Web API and pages (FastAPI); built in a later issue."""

"""What each field and mutation does. Plain async functions over the request context; no
GraphQL types here, so the CLI, workers and tests can call them too."""

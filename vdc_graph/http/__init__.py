"""The transports: GraphQL over HTTP, over WebSocket, and the explorer page."""

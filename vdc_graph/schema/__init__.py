"""The GraphQL schema: types and fields only; the work is done in ``vdc_graph.resolvers``."""

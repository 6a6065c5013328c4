"""vdc_graph: the GraphQL API of a service-provider portal for Microsoft 365 backup."""

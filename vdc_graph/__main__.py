from vdc_graph.cli import main

main()

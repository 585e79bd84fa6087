"""Run the netopt command line with `python -m netopt`."""
from netopt.cli import main

main()

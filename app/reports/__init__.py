"""Reports the crisis centre hands on: SITREPs, shift handovers, hotspot fiches, the annual
figures; generated from the picture and the change feed, in FR, NL and EN."""

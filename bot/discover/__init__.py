"""Settings discovery for domains the knowledge base does not know: MX, SRV, autoconfig, guesses.

The package imports nothing itself, so `mailhelp` starts without DNS code it may not need.
"""

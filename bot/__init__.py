"""mailhelp: a helpdesk bot for setting up and repairing e-mail."""

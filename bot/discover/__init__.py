"""Settings discovery for domains the knowledge base does not know: MX, SRV, autoconfig, guesses."""

from bot.discover.discovery import Discoverer, Discovery, Step
from bot.discover.report import render_discovered, settings_with_discovery

__all__ = ["Discoverer", "Discovery", "Step", "render_discovered", "settings_with_discovery"]

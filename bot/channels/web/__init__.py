"""The web door: the ASGI app (app.py) with the JSON API, the live check, pages and webhook."""

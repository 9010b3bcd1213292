from tests.web.test_browser import *  # noqa
from tests.web.test_browser import EMBEDDER

def test_dbg(page, live_server):
    page.on("console", lambda m: print("CONSOLE", m.type, m.text))
    page.on("requestfailed", lambda r: print("FAILED", r.url, r.failure))
    def site(route):
        route.fulfill(content_type="text/html", body=f'<html><body><h1>Shop</h1><script src="{live_server}/widget.js" async></script></body></html>')
    page.route(EMBEDDER + "/**", site)
    page.goto(EMBEDDER + "/")
    page.wait_for_timeout(1500)
    print(page.evaluate("document.documentElement.outerHTML"))

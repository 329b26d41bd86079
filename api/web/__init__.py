"""Server-rendered web pages (Jinja2, Chinese and English) over the same registry as the API.

Pages read through the registry's query functions and write through its services with the
logged-in party as the actor, exactly as the API does; browser libraries are vendored from npm
(``tools/vendor_js.py``) and served from ``/static``.
"""

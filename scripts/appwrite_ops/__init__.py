"""Operating a Bigtech project on any Appwrite 1.9 server, through its API and the Appwrite CLI.

* ``target.py`` - which server: ``APPWRITE_ENDPOINT`` / ``APPWRITE_PROJECT_ID`` / ``APPWRITE_API_KEY``;
* ``bootstrap.py`` - ``invoke bootstrap``: functions (without code), variables, core database,
  platform settings, the platform admin's label; idempotent;
* ``cli.py`` - ``invoke deploy``: the real ``appwrite-cli`` 12 from ``.tools/`` pushes the build;
* ``migrate.py`` - ``invoke migrate``: versioned, per-tenant schema migrations.
"""

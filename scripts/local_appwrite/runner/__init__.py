"""Running functions the way Appwrite's Python runtime (Open Runtimes) runs them.

* ``project.py`` - the functions declared in ``appwrite.json``;
* ``context.py`` - the runtime contract (``context.req/res/log/error``), standard library only;
* ``loader.py`` - imports an entrypoint as a package module so relative imports work;
* ``inprocess.py`` + ``environ.py`` - source mode: functions run inside the stack's process;
* ``worker.py`` + ``worker_main.py`` - build mode: one worker process per function.

Both runners expose ``execute(fn, env, method, path, headers, body) -> dict`` returning
``{statusCode, body (bytes), headers, logs, errors, duration}``.
"""

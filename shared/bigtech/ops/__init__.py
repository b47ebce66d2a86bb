"""Operations: backups and restores to S3 (``backup``, ``restore``, ``rotation``, ``store``), run by
``invoke backup``/``invoke restore`` and the CORE ``ops`` function's daily schedule (docs/operations.md)."""

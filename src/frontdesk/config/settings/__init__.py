"""Settings modules: ``base`` (embedded defaults), ``test`` and ``production``."""

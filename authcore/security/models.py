"""No models. The module exists because Django sends post_migrate only to apps with one."""

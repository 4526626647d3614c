"""Local date formats (settings.FORMAT_MODULE_PATH), where Django's own read badly in a sentence."""

"""Run directories: the files a run leaves behind, written whole or not at all."""

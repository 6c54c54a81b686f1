def main(argv=None):\n    raise SystemExit("not yet")

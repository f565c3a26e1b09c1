"""The shared core: the error hierarchy and exit codes, the machine contract, problem codes, the
operator table, the vocabularies and the run's clock.
"""

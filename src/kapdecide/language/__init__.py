"""The condition language: the fact schema, building facts from a profile, conditions and the three-
valued evaluator.
"""

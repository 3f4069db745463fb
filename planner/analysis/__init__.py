"""Analyst views of a plan: investigation impact, explanations, plan comparison. No framework imports."""

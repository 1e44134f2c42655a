"""Decisions: rule outcomes of a closed bar -> signal choice -> hard rules -> risk gate -> sizing
-> an order intent with its bracket, and a trace record for every decision, traded or not."""

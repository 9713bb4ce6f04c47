"""Operations on API objects: the rules of create / modify / delete, below HTTP and above SQL.

Each operation takes an open transaction (``AsyncSession``) and the caller's tenant, so several can
compose into one atomic change (a thread and its first messages, a run and its messages).
"""

"""The file_search tool in runs. Message attachments go into the thread's vector store in
``objects/thread_store.py``: a rule of creating messages, below the tools."""

from assistantd.tools.file_search.tool import FileSearchTool

__all__ = ["FileSearchTool"]

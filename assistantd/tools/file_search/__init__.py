"""The file_search tool in runs, and message attachments put into the thread's vector store."""

from assistantd.tools.file_search.tool import FileSearchTool

__all__ = ["FileSearchTool"]

from selfdebug_lsp import serve

serve()

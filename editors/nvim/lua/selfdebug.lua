-- selfdebug's language server in Neovim 0.7+ (no plugin manager or nvim-lspconfig needed).
--
--   require("selfdebug").setup({
--     settings = { serverUrl = "http://127.0.0.1:8000", apiKey = os.getenv("SELFDEBUG_API_KEY") },
--   })
--
-- Then, in a Python function with a docstring, `:lua vim.lsp.buf.code_action()` offers "Self-debug this
-- function", "Trace and repair", "Generate tests" and "Run tests in the sandbox". Settings (all optional):
-- serverUrl, apiKey, strategy, feedback, maxIterations, numTests, model, timeLimit, testsLocation ("file" or
-- "below"); serverUrl and apiKey default to $SELFDEBUG_URL and $SELFDEBUG_API_KEY.
local M = {}

M.defaults = {
  cmd = { "selfdebug", "lsp" },
  settings = {},
  filetypes = { "python" },
  root_markers = { "pyproject.toml", "setup.py", "setup.cfg", ".git" },
}

local client_id = nil

local function root_dir(path, markers)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while dir do
    for _, marker in ipairs(markers) do
      if vim.loop.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      break
    end
    dir = parent
  end
  return vim.fn.fnamemodify(path, ":p:h")
end

-- Start the server once (vim.lsp.start_client), and attach every buffer of the file types to it.
function M.attach(bufnr, opts)
  if client_id == nil or vim.lsp.get_client_by_id(client_id) == nil then
    local name = vim.api.nvim_buf_get_name(bufnr)
    local root = root_dir(name, opts.root_markers)
    client_id = vim.lsp.start_client({
      name = "selfdebug",
      cmd = opts.cmd,
      root_dir = root,
      workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
      init_options = opts.settings,
      settings = { selfdebug = opts.settings },
      -- Neovim 0.7 shows $/progress nowhere by itself: say its steps on the command line.
      handlers = {
        ["$/progress"] = function(err, result, ctx, config)
          local value = result and result.value or {}
          if value.kind ~= "begin" and value.message then
            vim.api.nvim_echo({ { "selfdebug: " .. value.message } }, false, {})
          end
          return vim.lsp.handlers["$/progress"](err, result, ctx, config)
        end,
        ["selfdebug/status"] = function() end,
      },
    })
  end
  vim.lsp.buf_attach_client(bufnr, client_id)
end

function M.setup(user)
  local opts = vim.tbl_deep_extend("force", M.defaults, user or {})
  local group = vim.api.nvim_create_augroup("selfdebug_lsp", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = opts.filetypes,
    callback = function(args)
      M.attach(args.buf, opts)
    end,
  })
end

return M

-- The headless Neovim test's driver (tests/lsp/test_neovim.py): start selfdebug's server as the README's
-- snippet does, open the file, pick "Self-debug this function" from the code-action menu, wait for the edit,
-- save, quit. Exits 0 when the buffer holds the repaired function, 1 otherwise, saying why.
local env = vim.env
vim.opt.runtimepath:append(env.SELFDEBUG_NVIM_DIR)
vim.opt.swapfile = false
vim.cmd("filetype on") -- a user's config has it; -u FILE alone does not

local function fail(message)
  io.stderr:write("drive.lua: " .. message .. "\n")
  vim.cmd("cquit 1")
end

require("selfdebug").setup({
  cmd = vim.split(env.SELFDEBUG_LSP_CMD, " "),
  settings = { serverUrl = env.SELFDEBUG_TEST_URL, apiKey = env.SELFDEBUG_TEST_KEY },
})

vim.cmd("edit " .. vim.fn.fnameescape(env.SELFDEBUG_FILE))
local bufnr = vim.api.nvim_get_current_buf()
local attached = vim.wait(30000, function()
  local clients = vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(clients) do
    if client.initialized then
      return true
    end
  end
  return false
end, 50)
if not attached then
  return fail("the language server did not start")
end

-- The user: the cursor in add's body, the code-action menu, the first entry named "Self-debug this function".
vim.api.nvim_win_set_cursor(0, { tonumber(env.SELFDEBUG_LINE), 4 })
local offered = {}
vim.ui.select = function(items, opts, on_choice)
  for index, item in ipairs(items) do
    local action = item[2] or item
    table.insert(offered, action.title)
    if action.title == "Self-debug this function" then
      return on_choice(item, index)
    end
  end
  on_choice(nil, nil)
end
local started = vim.loop.hrtime()
vim.lsp.buf.code_action()

local repaired = vim.wait(60000, function()
  local text = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
  return text:find(env.SELFDEBUG_EXPECT, 1, true) ~= nil
end, 20)
if not repaired then
  return fail("the buffer was not repaired; offered: " .. table.concat(offered, ", "))
end
print(string.format("selfdebug: edit applied %.2f s after the action", (vim.loop.hrtime() - started) / 1e9))
vim.cmd("write")
vim.cmd("qall!")

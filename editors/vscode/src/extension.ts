// selfdebug for VS Code: starts `selfdebug lsp` (the language server does the work: code actions, progress,
// edits, diagnostics), hands it the settings and the key from VS Code's secret storage, and shows a status-bar
// item while a job runs.
import * as vscode from "vscode";
import {
  ConfigurationParams,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from "vscode-languageclient/node";

const SECTION = "selfdebug";
const SECRET = "selfdebug.apiKey";

let client: LanguageClient | undefined;

type Settings = Record<string, unknown>;

function settings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const value = <T>(name: string): T | undefined => {
    const v = c.get<T>(name);
    return v === "" || v === null ? undefined : v;
  };
  return {
    serverUrl: value<string>("serverUrl"),
    strategy: value<string>("strategy"),
    feedback: value<string>("feedback"),
    maxIterations: value<number>("maxIterations"),
    numTests: value<number>("numTests"),
    model: value<string>("model"),
    timeLimit: value<number>("timeLimit"),
    testsLocation: value<string>("testsLocation"),
  };
}

async function withKey(context: vscode.ExtensionContext): Promise<Settings> {
  const key = await context.secrets.get(SECRET);
  return key ? { ...settings(), apiKey: key } : settings();
}

async function pushSettings(context: vscode.ExtensionContext): Promise<void> {
  await client?.sendNotification("workspace/didChangeConfiguration", {
    settings: { [SECTION]: await withKey(context) },
  });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // While a job runs: its step, and a click cancels it (VS Code's window progress has no cancel button).
  let running: string | undefined;
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 100);
  status.name = "selfdebug";
  status.tooltip = "A selfdebug job is running: click to cancel it";
  status.command = "selfdebug.cancelJob";
  context.subscriptions.push(status);

  const command = vscode.workspace.getConfiguration(SECTION).get<string[]>("command") ?? ["selfdebug", "lsp"];
  const serverOptions: ServerOptions = { command: command[0], args: command.slice(1) };  // stdio
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "python" }],
    initializationOptions: await withKey(context),
    middleware: {
      workspace: {
        // The server asks for the "selfdebug" section: answer with the key from secret storage added.
        configuration: async (params: ConfigurationParams, token, next) => {
          const answer = await next(params, token);
          if (!Array.isArray(answer)) {
            return answer;
          }
          const key = await context.secrets.get(SECRET);
          return answer.map((value, i) =>
            params.items[i]?.section === SECTION && key && value && typeof value === "object"
              ? { ...value, apiKey: key }
              : value,
          );
        },
      },
    },
  };
  client = new LanguageClient("selfdebug", "selfdebug", serverOptions, clientOptions);
  client.onNotification("selfdebug/status", (params: { busy: boolean; text: string; token?: string }) => {
    if (params.busy) {
      running = params.token ?? undefined;
      status.text = `$(sync~spin) ${params.text}`;
      status.show();
    } else {
      running = undefined;
      status.hide();
    }
  });

  context.subscriptions.push(
    vscode.commands.registerCommand("selfdebug.setApiKey", async () => {
      const key = await vscode.window.showInputBox({
        prompt: "The API key of your selfdebug service (kept in VS Code's secret storage)",
        password: true,
        ignoreFocusOut: true,
      });
      if (key) {
        await context.secrets.store(SECRET, key);
        await pushSettings(context);
      }
    }),
    vscode.commands.registerCommand("selfdebug.cancelJob", async () => {
      if (running) {
        await client?.sendNotification("window/workDoneProgress/cancel", { token: running });
      }
    }),
    vscode.commands.registerCommand("selfdebug.clearApiKey", async () => {
      await context.secrets.delete(SECRET);
      await pushSettings(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration(SECTION)) {
        await pushSettings(context);
      }
    }),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

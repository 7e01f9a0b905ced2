namespace VideoGen.Cli.Commands;

/// <summary>One option of a command: a flag when <see cref="ValueName"/> is null, else it takes a value.</summary>
public sealed record OptionSpec(string Name, string? ValueName, string Help)
{
    public bool TakesValue => ValueName is not null;
}

/// <summary>A command of the CLI: its name (one or two words), positional arguments and options.</summary>
public sealed record CommandSpec(
    string Name,
    string Summary,
    IReadOnlyList<string> Positionals,
    IReadOnlyList<OptionSpec> Options)
{
    public OptionSpec? FindOption(string name) => Options.FirstOrDefault(o => o.Name == name);
}

/// <summary>Every command the CLI knows, with the options each accepts.</summary>
public static class CommandCatalog
{
    public static readonly OptionSpec Coordinator = new("coordinator", "ADDRESS",
        "coordinator gRPC address (default: $VIDEOGEN_COORDINATOR or http://127.0.0.1:7070)");
    public static readonly OptionSpec ApiKey = new("api-key", "KEY",
        "API key (default: $VIDEOGEN_API_KEY, or the admin key of a local farm on this address)");
    public static readonly OptionSpec Json = new("json", null, "print JSON, one object per line");
    public static readonly OptionSpec Help = new("help", null, "show help");

    /// <summary>Options every command accepts, wherever they appear on the line.</summary>
    public static readonly IReadOnlyList<OptionSpec> GlobalOptions = [Coordinator, ApiKey, Json, Help];

    /// <summary>Options that describe a job; shared by <c>submit</c> and <c>estimate</c>.</summary>
    public static readonly IReadOnlyList<OptionSpec> JobSpecOptions =
    [
        new("duration", "SECONDS", "length of the video (wins over a duration in the prompt)"),
        new("template", "NAME", "planner template, e.g. product_showcase"),
        new("model", "NAME", "video model from the coordinator's catalog"),
        new("continuity", "strict|beat|none", "how chunks continue each other (default beat)"),
        new("strategy", "chain|keyframes|extend|text", "task graph of a take, one the model's capabilities allow (default: the model's first)"),
        new("priority", "N", "-100..100, higher runs first (default 0)"),
        new("tenant", "NAME", "who the job is for (default: the API key's tenant; only an admin key may name another)"),
        new("max-cost", "USD", "refuse the job when its estimate costs more"),
        new("resolution", "480p|720p|1080p", "output resolution of the finished ad (default: the coordinator's, 720p)"),
        new("transition", "NAME", "between takes: cut, dissolve, fade_black, wipe or zoom (default: the template's)"),
        new("transition-seconds", "S", "length of each transition (default: the template's, 0.5)"),
        new("look", "NAME", "colour grade: none, warm, cool, teal_orange or mono (default: the template's)"),
        new("aspect", "LIST", "extra deliverables cut from the 16:9 master, e.g. 9:16,1:1"),
        new("no-colour-match", null, "keep each chunk's colour as the model made it (default: matched to its take's anchor)"),
        new("no-end-card", null, "end on the last take, without the template's end card"),
    ];

    public static readonly CommandSpec FarmUp = new("farm up",
        "start a local farm: one coordinator and N workers, until Ctrl-C",
        [],
        [
            new("workers", "N", "number of workers (default 2)"),
            new("port", "PORT", "coordinator gRPC port (default 7070)"),
            new("http-port", "PORT", "coordinator HTTP port: web page, REST/JSON, /metrics (default: any free port), e.g. 7079"),
            new("dir", "DIR", "farm state, artifacts and logs (default .farm)"),
            new("slots", "S", "task slots per worker (default: the worker's own)"),
            new("coordinator-dll", "PATH", "coordinator DLL (default: $VIDEOGEN_COORDINATOR_DLL or found under artifacts/bin)"),
            new("worker-dll", "PATH", "worker DLL (default: $VIDEOGEN_WORKER_DLL or found under artifacts/bin)"),
            new("ready-timeout", "SECONDS", "how long to wait for the workers to be ready (default 60)"),
            new("max-restarts", "N", "restarts of one dead process a minute before the farm gives up (default 5; 0: no restarts)"),
        ]);

    public static readonly CommandSpec Submit = new("submit",
        "submit a job; prints its id (with --watch: follows it to the end)",
        ["PROMPT"],
        [
            .. JobSpecOptions,
            new("request-id", "ID", "idempotency key (default: a new UUID)"),
            new("watch", null, "follow the job until it ends"),
            new("out", "FILE", "copy the final video to FILE (implies --watch); prints its absolute path last"),
            new("deliverable", "ASPECT", "with --out: the rendition to copy, 16:9 (the master, default) or one asked with --aspect"),
        ]);

    public static readonly CommandSpec Watch = new("watch", "follow a job's events until it ends", ["JOB"], []);

    public static readonly CommandSpec Get = new("get", "show a job and its tasks", ["JOB"], []);

    public static readonly CommandSpec List = new("list", "list jobs, newest first", [],
        [
            new("state", "STATE", "only jobs in this state (queued, rendering, succeeded, failed, ...)"),
            new("tenant", "NAME", "only this tenant's jobs"),
            new("limit", "N", "at most N jobs (default 20)"),
        ]);

    public static readonly CommandSpec Cancel = new("cancel", "cancel a job", ["JOB"], []);

    public static readonly CommandSpec Estimate = new("estimate",
        "show the plan, cost and expected wall time of a job without starting it", ["PROMPT"], JobSpecOptions);

    public static readonly CommandSpec Revise = new("revise",
        "revise a succeeded job: a new job that reuses every chunk whose inputs are unchanged; prints its id", ["JOB"],
        [
            new("beat", "N", "the beat --shot and --text change (from 0)"),
            new("shot", "TEXT", "the beat's new shot (its storyboard and the chunks that start from it are made again)"),
            new("text", "TEXT", "the beat's new on-screen text (only the finish runs again)"),
            new("seed", "CHUNK=SEED,...", "chunks made again with new seeds"),
            new("look", "NAME", "a new colour grade: none, warm, cool, teal_orange or mono"),
            new("max-cost", "USD", "refuse the revision when what it must render costs more"),
            new("request-id", "ID", "idempotency key (default: a new UUID)"),
            new("estimate", null, "show what would be reused, run and paid, without starting it"),
        ]);

    public static readonly CommandSpec Workers = new("workers", "list the workers the coordinator knows", [], []);

    public static readonly CommandSpec Templates = new("templates", "list the planner's templates", [], []);

    public static readonly CommandSpec Drain = new("drain",
        "drain a worker: it finishes its running tasks and gets no new ones", ["WORKER"], []);

    public static readonly CommandSpec KeysCreate = new("keys create",
        "make an API key (admin); prints the key once: store it now", [],
        [
            new("tenant", "NAME", "the tenant of the key's jobs (required)"),
            new("role", "client|admin", "client (default): its tenant's jobs; admin: everything"),
        ]);

    public static readonly CommandSpec KeysList = new("keys list", "list API keys (admin; never the keys themselves)", [],
        [new("all", null, "include revoked keys")]);

    public static readonly CommandSpec KeysRevoke = new("keys revoke", "revoke an API key by its id (admin)", ["KEY_ID"], []);

    public static readonly IReadOnlyList<CommandSpec> All =
        [FarmUp, Submit, Watch, Get, List, Cancel, Estimate, Revise, Workers, Drain, Templates, KeysCreate, KeysList, KeysRevoke];
}

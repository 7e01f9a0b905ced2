using System.Text;
using System.Text.Json;
using Google.Protobuf;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Webhooks;

/// <summary>One callback to send: a row of the job store's webhook outbox.</summary>
/// <param name="Id">The webhook-id: "msg_" + job id + "_" + event sequence, the same on every attempt.</param>
/// <param name="JobId">The job whose event it reports.</param>
/// <param name="Tenant">The job's tenant, whose secret signs it.</param>
/// <param name="Url">Where it goes.</param>
/// <param name="Type">"job.succeeded", "task.failed", ….</param>
/// <param name="Body">The JSON body, fixed when the event is committed (every attempt sends the same bytes).</param>
/// <param name="Attempts">Attempts made so far.</param>
/// <param name="CreatedAtMs">When the event happened (Unix ms); retries stop <see cref="WebhookOptions.GiveUpAfterHours"/> after it.</param>
/// <param name="NextAttemptAtMs">When the next attempt is due (Unix ms).</param>
public sealed record WebhookDelivery(string Id, string JobId, string Tenant, string Url, string Type, string Body, int Attempts, long CreatedAtMs, long NextAttemptAtMs);

/// <summary>
/// Which committed events become callbacks, and their JSON bodies. The job stores call <see cref="Deliveries"/> inside
/// the transaction that commits the events (a transactional outbox): an event is stored together with its callback or
/// not at all, and the dispatcher sends what the outbox holds, across restarts.
/// </summary>
public static class WebhookOutbox
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    /// <summary>The callbacks owed for <paramref name="events"/>: jobs are looked up in the batch, then through <paramref name="lookup"/>.</summary>
    public static List<WebhookDelivery> Deliveries(IReadOnlyCollection<Job> jobs, IReadOnlyCollection<JobEvent> events, Func<string, Job?> lookup)
    {
        var result = new List<WebhookDelivery>();
        if (events.Count == 0)
        {
            return result;
        }

        var byId = new Dictionary<string, Job?>(StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            byId[job.JobId] = job;
        }

        foreach (var e in events)
        {
            if (EventType(e, WebhookEvents.All) is null)
            {
                continue; // progress and plans never owe a callback: no lookup
            }

            if (!byId.TryGetValue(e.JobId, out var job))
            {
                byId[e.JobId] = job = lookup(e.JobId);
            }

            var hook = job?.Request?.Webhook;
            if (hook is null || hook.Url.Length == 0 || EventType(e, hook.Events) is not { } type)
            {
                continue;
            }

            var created = e.Time?.ToDateTimeOffset() ?? DateTimeOffset.UtcNow;
            result.Add(new WebhookDelivery(
                $"msg_{e.JobId}_{e.Sequence}", e.JobId, job!.Request.Tenant, hook.Url, type, Body(type, created, job, e),
                Attempts: 0, CreatedAtMs: created.ToUnixTimeMilliseconds(), NextAttemptAtMs: created.ToUnixTimeMilliseconds()));
        }

        return result;
    }

    /// <summary>The event's type ("job.succeeded", "task.failed", …) when the subscription wants it; null when not.</summary>
    public static string? EventType(JobEvent e, WebhookEvents events)
    {
        var all = events == WebhookEvents.All;
        switch (e.EventCase)
        {
            case JobEvent.EventOneofCase.StateChanged:
                var state = e.StateChanged.State;
                var terminal = state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
                return terminal || all ? "job." + Name(state.ToString()) : null;
            case JobEvent.EventOneofCase.TaskUpdated when all:
                var task = e.TaskUpdated.Task?.State ?? TaskState.Unspecified;
                return task is TaskState.Succeeded or TaskState.Failed or TaskState.Cancelled ? "task." + Name(task.ToString()) : null;
            default:
                return null;
        }
    }

    private static string Name(string enumName) => enumName.ToLowerInvariant();

    /// <summary>{"type", "timestamp", "data": {"jobId", "tenant", "event": JobEvent as proto JSON}} (the Standard Webhooks payload shape).</summary>
    private static string Body(string type, DateTimeOffset time, Job job, JobEvent e)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteString("timestamp", time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteStartObject("data");
            json.WriteString("jobId", e.JobId);
            json.WriteString("tenant", job.Request?.Tenant ?? "");
            json.WritePropertyName("event");
            json.WriteRawValue(Formatter.Format(e));
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

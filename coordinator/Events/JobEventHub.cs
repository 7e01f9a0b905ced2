using System.Threading.Channels;
using VideoGen.Contracts.V1;

namespace VideoGen.Coordinator.Events;

/// <summary>
/// Live fan-out of committed job events to watchers. Each watcher gets a bounded channel; a
/// watcher that falls that far behind is cut off (its channel completes with an error) and
/// resumes from its last sequence through the store, so a slow client never holds the
/// orchestrator back and never silently loses an event.
/// </summary>
public sealed class JobEventHub
{
    public const int WatcherBuffer = 4096;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Channel<JobEvent>>> _watchers = new(StringComparer.Ordinal);

    /// <summary>Subscribes to the job's live events; dispose the result to unsubscribe.</summary>
    public Subscription Subscribe(string jobId)
    {
        var channel = Channel.CreateBounded<JobEvent>(new BoundedChannelOptions(WatcherBuffer) { SingleReader = true, SingleWriter = true });
        lock (_gate)
        {
            if (!_watchers.TryGetValue(jobId, out var list))
            {
                _watchers[jobId] = list = [];
            }

            list.Add(channel);
        }

        return new Subscription(this, jobId, channel);
    }

    /// <summary>Every committed batch of events, for in-process observers (metrics, benchmarks); called on the orchestrator's loop, so keep it cheap.</summary>
    public event Action<IReadOnlyList<JobEvent>>? Published;

    /// <summary>Called by the orchestrator after the events are committed.</summary>
    public void Publish(IReadOnlyList<JobEvent> events)
    {
        Published?.Invoke(events);
        lock (_gate)
        {
            foreach (var e in events)
            {
                if (!_watchers.TryGetValue(e.JobId, out var list))
                {
                    continue;
                }

                foreach (var channel in list)
                {
                    if (!channel.Writer.TryWrite(e))
                    {
                        channel.Writer.TryComplete(new WatcherTooSlowException());
                    }
                }
            }
        }
    }

    private void Unsubscribe(string jobId, Channel<JobEvent> channel)
    {
        lock (_gate)
        {
            if (_watchers.TryGetValue(jobId, out var list))
            {
                list.Remove(channel);
                if (list.Count == 0)
                {
                    _watchers.Remove(jobId);
                }
            }
        }
    }

    /// <summary>One watcher's live feed.</summary>
    public sealed class Subscription(JobEventHub hub, string jobId, Channel<JobEvent> channel) : IDisposable
    {
        public ChannelReader<JobEvent> Reader => channel.Reader;

        public void Dispose() => hub.Unsubscribe(jobId, channel);
    }
}

/// <summary>A watcher fell more than <see cref="JobEventHub.WatcherBuffer"/> events behind.</summary>
public sealed class WatcherTooSlowException() : Exception("The watcher fell behind; resume from the last sequence seen.");

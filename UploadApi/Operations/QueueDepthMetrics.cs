using System.Diagnostics.Metrics;

namespace Reference.UploadApi.Operations;

/// <summary>
/// The queues' depths as an OpenTelemetry gauge (<c>rabbitmq.queue.messages</c>, by queue and ready/unacknowledged),
/// read from the management API every few seconds, so the Aspire dashboard and any Prometheus chart them too.
/// </summary>
public sealed class QueueDepthMetrics(RabbitMqQueues queues, ILogger<QueueDepthMetrics> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private readonly Meter _meter = new("Reference.UploadApi.Operations");
    private volatile IReadOnlyList<QueueView> _last = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!queues.IsConfigured)
        {
            return;
        }

        _meter.CreateObservableGauge("rabbitmq.queue.messages", () => _last.SelectMany(q => new[]
        {
            new Measurement<long>(q.Ready, new("queue", q.Name), new("state", "ready")),
            new Measurement<long>(q.Unacknowledged, new("queue", q.Name), new("state", "unacknowledged")),
        }), "{message}", "Messages in each durable queue of the pipeline.");
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                _last = await queues.ListAsync(stoppingToken);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug(e, "Could not read the queues from RabbitMQ's management API.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }
}

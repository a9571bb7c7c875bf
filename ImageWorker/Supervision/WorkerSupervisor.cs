using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.Scaling;
using StackExchange.Redis;

namespace Reference.ImageWorker.Supervision;

/// <summary>
/// The compose deployment's scheduler (<c>Scaling:Supervise=true</c>): this process does no image
/// work; it runs 0..N worker processes of its own image inside the container's CPU and memory
/// limits, by the same <see cref="ScalingPolicy"/> and RabbitMQ reading as the AppHost, and needs no
/// container engine socket. A worker is stopped (SIGTERM) only while it holds no job; a worker that
/// dies is simply gone, and the policy starts another if the queue still needs it.
/// </summary>
public sealed partial class WorkerSupervisor(
    IOptions<ScalingOptions> options, IConfiguration configuration, IConnectionMultiplexer redis, TimeProvider clock, ILogger<WorkerSupervisor> logger)
    : BackgroundService
{
    private const int SigTerm = 15;
    private readonly RabbitMqQueueReader _reader = new(MessageEndpoints.ImageUploadedQueue, MessageEndpoints.WebpVariantsQueue);
    private readonly List<(string Name, Process Process)> _workers = [];
    private readonly HashSet<string> _leaving = [];
    private int _started;

    public ScalingDecision? LastDecision { get; private set; }

    public int RunningWorkers => _workers.Count(w => !w.Process.HasExited);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var limits = options.Value.Resolve(MachineCapacity.Current);
        var policy = new ScalingPolicy(limits);
        var (management, amqp) = BrokerAddresses();
        logger.LogInformation("Supervising 0..{Max} image workers (minimum {Min}) from {Management}", limits.MaxWorkers, limits.MinWorkers,
            management.GetComponents(UriComponents.SchemeAndServer, UriFormat.Unescaped));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await RoundAsync(policy, management, amqp, stoppingToken);
                await ScalingRounds.WaitAsync(options.Value.Interval, LastDecision is { To: 0 }, ct => _reader.ReadyNowAsync(amqp, ct), clock, stoppingToken);
            }
        }
        finally
        {
            await StopAllAsync();
        }
    }

    private async Task RoundAsync(ScalingPolicy policy, Uri management, Uri amqp, CancellationToken cancellationToken)
    {
        _workers.RemoveAll(w => w.Process.HasExited && Gone(w));
        var now = clock.GetUtcNow();
        WorkQueueReading? reading = null;
        try
        {
            reading = await _reader.ReadAsync(management, amqp, now, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Could not read the work queue from RabbitMQ ({Error}); the pool holds", e.Message);
        }

        var decision = policy.Decide(new ScalingInputs(reading?.Queue, _workers.Count, now));
        LastDecision = decision;
        try
        {
            // Where the console reads the AppHost scaler's; the imageworker's Redis user may write ops:*.
            await ScalerDecisionLog.WriteAsync(redis.GetDatabase(), decision, _leaving, policy.Limits);
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            logger.LogDebug("Could not write the supervisor's decision to Redis: {Error}", e.Message);
        }

        if (!decision.IsChange)
        {
            return;
        }

        logger.LogInformation("Image workers {From} → {To}: {Reason}", decision.From, decision.To, decision.Reason);
        for (var i = decision.From; i < decision.To; i++)
        {
            Start();
        }

        var stopping = decision.From - decision.To;
        foreach (var worker in Enumerable.Reverse(_workers).ToList())
        {
            if (stopping <= 0 || reading is null)
            {
                break;
            }

            if (reading.HeldBy.GetValueOrDefault(worker.Name) == 0 && Kill(worker.Process.Id, SigTerm) == 0)
            {
                logger.LogInformation("Stopping {Worker} (pid {Pid}): it holds no job", worker.Name, worker.Process.Id);
                _leaving.Add(worker.Name);
                stopping--;
            }
        }
    }

    /// <summary>
    /// The management API, with the user to read it as when that is not the AMQP user: compose gives the
    /// monitoring user's URL (<c>ConnectionStrings:messaging-monitor</c>), since the worker's own broker user
    /// has no management tag and could not see the other workers' channels anyway. Without it:
    /// <c>Scaling:ManagementUrl</c>, or the broker's host on port 15672, as the AMQP user.
    /// </summary>
    private (Uri Management, Uri Amqp) BrokerAddresses()
    {
        var amqp = new Uri(configuration.GetConnectionString("messaging")
            ?? throw new InvalidOperationException("ConnectionStrings:messaging is not set."));
        var management = configuration.GetConnectionString("messaging-monitor") is { Length: > 0 } monitor
            ? monitor.Trim()
            : configuration["Scaling:ManagementUrl"] ?? $"http://{amqp.Host}:15672";
        return (new Uri(management), amqp);
    }

    /// <summary>A worker process: this same program without supervision, its own broker connection name, any free port.</summary>
    private void Start()
    {
        var name = $"{Environment.MachineName}-{++_started}";
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(WorkerSupervisor).Assembly.Location);
        }

        start.Environment["Scaling__Supervise"] = "false";
        start.Environment["Messaging__ConnectionName"] = name;
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["OTEL_SERVICE_INSTANCE_ID"] = name;
        var process = Process.Start(start) ?? throw new InvalidOperationException("The worker process did not start.");
        _workers.Add((name, process));
        logger.LogInformation("Started {Worker} (pid {Pid})", name, process.Id);
    }

    private bool Gone((string Name, Process Process) worker)
    {
        logger.LogInformation("{Worker} (pid {Pid}) exited with code {Code}", worker.Name, worker.Process.Id, worker.Process.ExitCode);
        _leaving.Remove(worker.Name);
        worker.Process.Dispose();
        return true;
    }

    private async Task StopAllAsync()
    {
        foreach (var (_, process) in _workers.Where(w => !w.Process.HasExited))
        {
            _ = Kill(process.Id, SigTerm);
        }

        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        await Task.WhenAll(_workers.Select(w => w.Process.WaitForExitAsync(patience.Token).ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

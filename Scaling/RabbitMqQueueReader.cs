using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;

namespace Reference.Scaling;

/// <summary>The work queue at one reading, and how many jobs each worker (by connection name) holds.</summary>
public sealed record WorkQueueReading(QueueReading Queue, int Consumers, IReadOnlyDictionary<string, int> HeldBy);

/// <summary>
/// Reads a queue from RabbitMQ's management API: ready and unacknowledged jobs (both: prefetch moves
/// backlog into "unacknowledged"), and each worker's unacknowledged jobs from its channels, found by
/// the connection name every worker gives itself (<c>Messaging:ConnectionName</c>). The oldest waiting
/// job's age is the queue's head message timestamp when the broker has one, else how long jobs have
/// been waiting without a break (an upper bound: with prefetch, jobs wait only while every worker is full).
/// A background queue's jobs (ready and held) are read as <see cref="QueueReading.Background"/>.
/// </summary>
public sealed class RabbitMqQueueReader(string queueName, string? backgroundQueueName = null) : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private IConnection? _connection;
    private IChannel? _channel;
    private DateTimeOffset? _waitingSince;

    /// <param name="management">
    /// The management API's base address, e.g. <c>http://messaging:15672</c>; with a user and password in it
    /// (compose's monitoring user, <c>http://monitor:...@messaging:15672/</c>), those are read as.
    /// </param>
    /// <param name="amqp">The broker's AMQP URI: its user and password are the management API's too, unless <paramref name="management"/> has its own.</param>
    public async Task<WorkQueueReading> ReadAsync(Uri management, Uri amqp, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var baseUrl = management.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped).TrimEnd('/');
        var user = management.UserInfo is { Length: > 0 } own ? own : amqp.UserInfo;
        var authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(user))));
        // Not there yet (UploadApi declares it at its start): nothing waits.
        using var queue = await GetAsync($"{baseUrl}/api/queues/%2F/{Uri.EscapeDataString(queueName)}", authorization, cancellationToken)
            ?? JsonDocument.Parse("{}");
        using var connections = await GetAsync($"{baseUrl}/api/connections?columns=name,user_provided_name,client_properties", authorization, cancellationToken)
            ?? throw new HttpRequestException("The management API has no connections list.");
        using var channels = await GetAsync($"{baseUrl}/api/channels?columns=connection_details,messages_unacknowledged", authorization, cancellationToken)
            ?? throw new HttpRequestException("The management API has no channels list.");

        var background = 0;
        if (backgroundQueueName is not null)
        {
            using var backgroundQueue = await GetAsync($"{baseUrl}/api/queues/%2F/{Uri.EscapeDataString(backgroundQueueName)}", authorization, cancellationToken);
            background = backgroundQueue is null ? 0 : Int(backgroundQueue.RootElement, "messages_ready") + Int(backgroundQueue.RootElement, "messages_unacknowledged");
        }

        var q = queue.RootElement;
        var ready = Int(q, "messages_ready");
        var unacked = Int(q, "messages_unacknowledged");
        // The larger of the two: a count can only be late, and the management API's is its last statistics.
        ready = Math.Max(ready, await ReadyNowAsync(amqp, cancellationToken) ?? 0);
        _waitingSince = ready > 0 ? _waitingSince ?? now : null;
        TimeSpan? oldest = ready == 0 ? null
            : q.TryGetProperty("head_message_timestamp", out var head) && head.ValueKind == JsonValueKind.Number
                ? now - DateTimeOffset.FromUnixTimeSeconds(head.GetInt64())
                : now - _waitingSince;

        var workerOfConnection = connections.RootElement.EnumerateArray()
            .Select(conn => (Name: conn.GetProperty("name").GetString()!, Worker: ProvidedName(conn)))
            .Where(conn => conn.Worker is not null)
            .ToDictionary(conn => conn.Name, conn => conn.Worker!);
        var heldBy = channels.RootElement.EnumerateArray()
            .Select(ch => (Connection: ch.TryGetProperty("connection_details", out var d) && d.ValueKind == JsonValueKind.Object
                                       && d.TryGetProperty("name", out var n) ? n.GetString() : null,
                           Held: Int(ch, "messages_unacknowledged")))
            .Where(ch => ch.Connection is not null && workerOfConnection.ContainsKey(ch.Connection))
            .GroupBy(ch => workerOfConnection[ch.Connection!])
            .ToDictionary(g => g.Key, g => g.Sum(ch => ch.Held));

        return new WorkQueueReading(new QueueReading(ready, unacked, oldest, Background: background), Int(q, "consumers"), heldBy);
    }

    /// <summary>
    /// The queue's ready jobs this instant, from a passive declare over AMQP. The management API's counts are
    /// statistics, refreshed every <c>collect_statistics_interval</c> (5 s): read alone, they kept an upload that
    /// arrived in an empty pool waiting that long for the scaler to see it. Null when the broker does not answer.
    /// Cheap (one round trip on a kept connection), so a scaler may also ask between its rounds (<see cref="ScalingRounds"/>).
    /// </summary>
    /// <param name="amqp">The broker's AMQP URI, as a user that may declare the queue passively.</param>
    /// <param name="cancellationToken">Ends the wait for the broker.</param>
    public async Task<int?> ReadyNowAsync(Uri amqp, CancellationToken cancellationToken)
    {
        try
        {
            if (_connection is not { IsOpen: true })
            {
                await CloseAsync();
                var factory = new ConnectionFactory
                {
                    Uri = amqp, ClientProvidedName = "scaler", AutomaticRecoveryEnabled = false, RequestedConnectionTimeout = TimeSpan.FromSeconds(2),
                };
                _connection = await factory.CreateConnectionAsync(cancellationToken);
            }

            if (_channel is not { IsOpen: true })
            {
                _channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
            }

            return (int)(await _channel.QueueDeclarePassiveAsync(queueName, cancellationToken)).MessageCount;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // No queue yet (the declare closes the channel), or no broker: the management API's count stands.
            return null;
        }
    }

    private async Task CloseAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
            _channel = null;
        }
    }

    public async ValueTask DisposeAsync() => await CloseAsync();

    private static int Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : 0;

    private static string? ProvidedName(JsonElement connection) =>
        connection.TryGetProperty("user_provided_name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString()
        : connection.TryGetProperty("client_properties", out var props) && props.ValueKind == JsonValueKind.Object
          && props.TryGetProperty("connection_name", out var cn) && cn.ValueKind == JsonValueKind.String ? cn.GetString()
        : null;

    private static async Task<JsonDocument?> GetAsync(string url, AuthenticationHeaderValue authorization, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = authorization;
        using var response = await Http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
    }
}

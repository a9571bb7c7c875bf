using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Reference.Contracts;
using Reference.Scaling;

namespace Reference.AppHost.Scaling;

/// <summary>The work queue at one reading, and how many jobs each worker (by connection name) holds.</summary>
public sealed record WorkQueueReading(QueueReading Queue, int Consumers, IReadOnlyDictionary<string, int> HeldBy);

/// <summary>
/// Reads the image workers' queue from RabbitMQ's management API: ready and unacknowledged jobs (both:
/// prefetch moves backlog into "unacknowledged"), and each worker's unacknowledged jobs from its
/// channels, found by the connection name every worker of the pool gives itself. The oldest waiting
/// job's age is the queue's head message timestamp when the broker has one, else how long jobs have
/// been waiting without a break (an upper bound: with prefetch, jobs wait only while every worker is full).
/// </summary>
public sealed class WorkQueueReader(IResourceWithConnectionString messaging, DistributedApplicationModel model, ILogger<WorkQueueReader> logger)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private DateTimeOffset? _waitingSince;

    /// <summary>The reading, or null when the broker could not be read (the scaler then holds the pool).</summary>
    public async Task<WorkQueueReading?> ReadAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            var (baseUrl, authorization) = await ManagementAsync(cancellationToken);
            // Not there yet (UploadApi declares it at its start): nothing waits.
            using var queue = await GetAsync($"{baseUrl}/api/queues/%2F/{MessageEndpoints.ImageUploadedQueue}", authorization, cancellationToken)
                ?? JsonDocument.Parse("{}");
            using var connections = await GetAsync($"{baseUrl}/api/connections?columns=name,user_provided_name,client_properties", authorization, cancellationToken)
                ?? throw new InvalidOperationException("No connections list.");
            using var channels = await GetAsync($"{baseUrl}/api/channels?columns=connection_details,messages_unacknowledged", authorization, cancellationToken)
                ?? throw new InvalidOperationException("No channels list.");

            var q = queue.RootElement;
            var ready = q.TryGetProperty("messages_ready", out var r) ? r.GetInt32() : 0;
            var unacked = q.TryGetProperty("messages_unacknowledged", out var u) ? u.GetInt32() : 0;
            var consumers = q.TryGetProperty("consumers", out var c) ? c.GetInt32() : 0;
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
                .Select(ch => (Connection: ch.GetProperty("connection_details").TryGetProperty("name", out var n) ? n.GetString() : null,
                               Held: ch.TryGetProperty("messages_unacknowledged", out var h) ? h.GetInt32() : 0))
                .Where(ch => ch.Connection is not null && workerOfConnection.ContainsKey(ch.Connection))
                .GroupBy(ch => workerOfConnection[ch.Connection!])
                .ToDictionary(g => g.Key, g => g.Sum(ch => ch.Held));

            return new WorkQueueReading(new QueueReading(ready, unacked, oldest), consumers, heldBy);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException or KeyNotFoundException
                                  && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Could not read the work queue from RabbitMQ ({Error}); the pool holds", e.Message);
            return null;
        }
    }

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
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
    }

    /// <summary>The management API's address and the broker's own credentials (from its connection string).</summary>
    private async Task<(string BaseUrl, AuthenticationHeaderValue Authorization)> ManagementAsync(CancellationToken cancellationToken)
    {
        var server = messaging as IResourceWithEndpoints
            ?? model.Resources.OfType<IResourceWithEndpoints>().Single(r => r.Name == messaging.Name);
        var management = new EndpointReference(server, "management");
        var amqp = new Uri(await messaging.GetConnectionStringAsync(cancellationToken)
            ?? throw new InvalidOperationException("RabbitMQ has no connection string yet."));
        var credentials = Uri.UnescapeDataString(amqp.UserInfo);
        return (management.Url.TrimEnd('/'), new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials))));
    }
}

using System.Net.Http.Json;
using System.Text.Json;
using Reference.Scaling;

namespace Reference.AppHost.Scaling;

/// <summary>
/// The gateway's measured load per cluster (<c>GET /api/gateway/load</c>, as the admin), and its lever: a replica's destination
/// taken out of rotation before the replica stops, and put back after it starts (<c>POST /api/gateway/clusters/{cluster}/out|in</c>).
/// </summary>
public sealed class GatewayLoadReader(EndpointReference gateway, ParameterResource adminKey)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };

    /// <summary>Each cluster's load, and each destination's requests in flight and whether it is out of rotation, by address.</summary>
    public async Task<IReadOnlyDictionary<string, ClusterReading>> ReadAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, "/api/gateway/load", null, cancellationToken);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return body.GetProperty("clusters").EnumerateObject().ToDictionary(cluster => cluster.Name, cluster =>
        {
            var c = cluster.Value;
            var p95 = c.GetProperty("p95Milliseconds");
            return new ClusterReading(
                new ApiLoad(c.GetProperty("inFlight").GetInt32(),
                    p95.ValueKind == JsonValueKind.Number ? TimeSpan.FromMilliseconds(p95.GetDouble()) : null,
                    c.GetProperty("requests").GetInt32()),
                c.GetProperty("destinations").EnumerateArray().ToDictionary(
                    d => new Uri(d.GetProperty("address").GetString()!),
                    d => new DestinationReading(d.GetProperty("inFlight").GetInt32(), d.GetProperty("takenOut").GetBoolean())));
        });
    }

    /// <summary>Out of rotation (<paramref name="takeOut"/>) or back in; false when the gateway does not know the destination.</summary>
    /// <param name="cluster">The gateway cluster, e.g. <c>inventoryapi</c>.</param>
    /// <param name="address">The replica's address, as the gateway has it.</param>
    /// <param name="takeOut">True to take it out, false to put it back.</param>
    /// <param name="cancellationToken">The scaler's stop.</param>
    public async Task<bool> SetInRotationAsync(string cluster, Uri address, bool takeOut, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"/api/gateway/clusters/{Uri.EscapeDataString(cluster)}/{(takeOut ? "out" : "in")}",
            JsonContent.Create(new { address = address.ToString() }), cancellationToken);
        return response.IsSuccessStatusCode;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(new Uri(gateway.Url), path)) { Content = content };
        request.Headers.Add("X-Api-Key", await adminKey.GetValueAsync(cancellationToken));
        return await Http.SendAsync(request, cancellationToken);
    }
}

/// <param name="Load">The cluster's load.</param>
/// <param name="Destinations">Each destination by address.</param>
public sealed record ClusterReading(ApiLoad Load, IReadOnlyDictionary<Uri, DestinationReading> Destinations);

/// <param name="InFlight">Its requests in flight (YARP's count, event streams included).</param>
/// <param name="TakenOut">Out of rotation since a scale-down took it out.</param>
public sealed record DestinationReading(int InFlight, bool TakenOut);

using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Reference.Tests.Storefront;

namespace Reference.Reliability.Tests.Support;

/// <summary>
/// The storefront for the jobs console's tests: the reliability settings, plus workers whose job time budget is
/// short enough to watch it end a hung job, and the fault that hangs every job of <see cref="HangingProductId"/>.
/// </summary>
public sealed class OperationsStorefront : ReliabilityStorefront
{
    public static readonly Guid HangingProductId = Guid.Parse("0b5e55ed-0000-4000-8000-00000000a5a5");
    public static readonly TimeSpan JobTimeBudget = TimeSpan.FromSeconds(20);

    protected override void ConfigureMore(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var worker in builder.Resources.OfType<ProjectResource>().Where(p => p.Name.StartsWith("imageworker-", StringComparison.Ordinal)))
        {
            builder.CreateResourceBuilder(worker)
                .WithEnvironment("Images__JobTimeBudget", JobTimeBudget.ToString("c"))
                .WithEnvironment("ImageWorker__FaultInjection__HangOnProductId", HangingProductId.ToString());
        }
    }

    public OperationsClient CreateOperationsClient() => new(CreateGatewayClient(), AdminKey);
}

/// <summary>The operations API as the page and an operator's script use it.</summary>
public sealed class OperationsClient(HttpClient http, string adminKey)
{
    public HttpClient Http => http;

    public async Task<List<WorkerViewDto>> WorkersAsync() =>
        (await SendAsync<List<WorkerViewDto>>(HttpMethod.Get, "/api/ops/workers"))!;

    public async Task<UploadDetailDto> UploadAsync(Guid id) =>
        (await SendAsync<UploadDetailDto>(HttpMethod.Get, $"/api/ops/uploads/{id}"))!;

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if ((key ?? adminKey) is { Length: > 0 } presented)
        {
            request.Headers.Add("X-Api-Key", presented);
        }

        return await http.SendAsync(request);
    }

    private async Task<T?> SendAsync<T>(HttpMethod method, string path)
    {
        using var response = await SendAsync(method, path);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<T>(StorefrontClient.Json);
    }
}

public sealed record WorkerViewDto(HeartbeatDto Heartbeat, bool Lost, double SilentForSeconds);

public sealed record HeartbeatDto(string WorkerId, string Name, string Host, int Pid, string State, int Concurrency,
    List<WorkerJobDto> Jobs, long Done, long Failed, long ResidentBytes, DateTimeOffset SentAt, string? LastWords);

public sealed record WorkerJobDto(Guid UploadId, long Bytes, long Pixels, DateTimeOffset ReceivedAt, bool Running);

public sealed record QueueDto(string Name, bool IsErrorQueue, long Ready, long Unacknowledged, int Consumers, double? OldestAgeSeconds);

public sealed record UploadDetailDto(UploadSummaryDto Upload, List<HistoryEntryDto> History);

public sealed record UploadSummaryDto(Guid Id, string Status, string? Reason, int Attempts, int Starts);

public sealed record HistoryEntryDto(DateTimeOffset At, string Source, string Event, string? Detail);

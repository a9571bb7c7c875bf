using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Reference.Tests.Support;

namespace Reference.Gateway.Tests.Support;

/// <summary>
/// The real gateway (its Program) on a real Kestrel socket on 127.0.0.1, so slow clients, client
/// addresses and timeouts behave as in production. Backends are wired exactly as the AppHost does:
/// <c>services:{name}:http:{i}</c>.
/// </summary>
public sealed class GatewayHost : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public GatewayHost(IEnumerable<FakeBackend> inventory, IEnumerable<FakeBackend> uploads, IDictionary<string, string?>? settings = null)
    {
        StorageRoot = Directory.CreateTempSubdirectory("gateway-tests-").FullName;
        _settings = new Dictionary<string, string?>
        {
            ["Storage:Root"] = StorageRoot,
            // Fast health checks so tests see replicas come and go quickly.
            ["ReverseProxy:Clusters:inventoryapi:HealthCheck:Active:Interval"] = "00:00:00.500",
            ["ReverseProxy:Clusters:inventoryapi:HealthCheck:Active:Timeout"] = "00:00:00.500",
            ["ReverseProxy:Clusters:uploadapi:HealthCheck:Active:Interval"] = "00:00:00.500",
            ["ReverseProxy:Clusters:uploadapi:HealthCheck:Active:Timeout"] = "00:00:00.500",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var i = 0;
        foreach (var backend in inventory)
        {
            _settings[$"services:inventoryapi:http:{i++}"] = backend.Url;
        }

        i = 0;
        foreach (var backend in uploads)
        {
            _settings[$"services:uploadapi:http:{i++}"] = backend.Url;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        // A port of our own through the URLs rather than UseKestrel(0): the factory's own port
        // handling races the minimal-hosting entry point and now and then finds the server started.
        BaseAddress = new Uri($"http://127.0.0.1:{Loopback.FreePort()}");
        UseKestrel();
        StartServer();
    }

    public string StorageRoot { get; }
    public Uri BaseAddress { get; }

    public HttpClient CreateRealClient(bool decompress = false) => new(new SocketsHttpHandler
    {
        AutomaticDecompression = decompress ? System.Net.DecompressionMethods.All : System.Net.DecompressionMethods.None,
    })
    {
        BaseAddress = BaseAddress,
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseUrls(BaseAddress.ToString());
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(_settings));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(StorageRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

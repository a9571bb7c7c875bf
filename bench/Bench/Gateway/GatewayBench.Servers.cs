using System.Diagnostics;
using Reference.Tests.Support;

namespace Reference.Bench.Gateway;

public static partial class GatewayBench
{
    /// <summary>The processes of one run, each with its own folder, config, pid and log; all stopped at the end.</summary>
    private sealed class Servers : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("bench-gateway-").FullName;
        private readonly List<Process> _processes = [];

        public int StartNginxBackend()
        {
            var port = Loopback.FreePort();
            StartNginx("backend", port, $$"""
                worker_processes 1;
                http {
                    access_log off;
                    server {
                        listen 127.0.0.1:{{port}} backlog=4096;
                        default_type application/json;
                        location / { return 200 '{{ProductJson}}'; }
                    }
                }
                """);
            return port;
        }

        public int StartNginxProxy(int backendPort)
        {
            var port = Loopback.FreePort();
            StartNginx("proxy", port, $$"""
                worker_processes 2;
                http {
                    access_log off;
                    upstream backend { server 127.0.0.1:{{backendPort}}; keepalive 64; }
                    server {
                        listen 127.0.0.1:{{port}} backlog=4096;
                        location / {
                            proxy_pass http://backend;
                            proxy_http_version 1.1;
                            proxy_set_header Connection "";
                        }
                    }
                }
                """);
            return port;
        }

        private void StartNginx(string name, int port, string http)
        {
            var prefix = Directory.CreateDirectory(System.IO.Path.Combine(_folder, name)).FullName;
            Directory.CreateDirectory(System.IO.Path.Combine(prefix, "logs"));
            var config = System.IO.Path.Combine(prefix, "nginx.conf");
            File.WriteAllText(config, $$"""
                daemon off;
                master_process on;
                pid {{prefix}}/nginx.pid;
                error_log {{prefix}}/logs/error.log warn;
                events { worker_connections 4096; }
                {{http.Replace("http {", $"http {{\n    client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy; fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;", StringComparison.Ordinal)}}
                """);
            Start("/usr/sbin/nginx", ["-p", prefix, "-c", config], []);
        }

        public int StartGateway(int backendPort, (string, string)[] settings)
        {
            var port = Loopback.FreePort();
            var gateway = GatewayAssembly;

            var storage = Directory.CreateDirectory(System.IO.Path.Combine(_folder, $"gateway-{port}")).FullName;
            // Its content root (appsettings.json with the routes) is the folder it runs in.
            Start("dotnet", [gateway], workingDirectory: System.IO.Path.GetDirectoryName(gateway),
            environment: [
                ("ASPNETCORE_URLS", $"http://127.0.0.1:{port}"),
                ("ASPNETCORE_ENVIRONMENT", "Production"),
                ("DOTNET_ENVIRONMENT", "Production"),
                ("Logging__LogLevel__Default", "Warning"),
                ("services__inventoryapi__http__0", $"http://127.0.0.1:{backendPort}"),
                ("services__uploadapi__http__0", $"http://127.0.0.1:{backendPort}"),
                ("Storage__Root", storage),
                // The default (300 per 10 s per client address) would answer wrk with 429s.
                ("Gateway__ApiRateLimit__PermitLimit", "1000000000"),
                .. settings,
            ]);
            return port;
        }

        public int StartBareYarp(int backendPort)
        {
            var port = Loopback.FreePort();
            Start("dotnet", [typeof(GatewayBench).Assembly.Location, "bare-yarp", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--backend", $"http://127.0.0.1:{backendPort}"], [("ASPNETCORE_ENVIRONMENT", "Production")]);
            return port;
        }

        private void Start(string file, string[] args, (string, string)[] environment, string? workingDirectory = null)
        {
            var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            if (workingDirectory is not null)
            {
                start.WorkingDirectory = workingDirectory;
            }

            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }

            var process = Process.Start(start)!;
            // Drained so a chatty server never blocks on a full pipe.
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) =>
            {
                if (!string.IsNullOrWhiteSpace(e.Data))
                {
                    Console.Error.WriteLine($"[{System.IO.Path.GetFileName(file)}] {e.Data}");
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _processes.Add(process);
        }

        public void Dispose()
        {
            foreach (var process in _processes)
            {
                try
                {
                    // nginx's master stops its workers on SIGTERM; Kill(true) covers the .NET ones.
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
                catch (InvalidOperationException)
                {
                }

                process.Dispose();
            }

            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

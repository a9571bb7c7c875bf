using System.Diagnostics;
using MySqlConnector;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Reference.Tests.Support;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Reference.AppHost.Tests;

/// <summary>
/// Each service's credentials, on the real servers started by the AppHost's own scripts and set up by
/// the services' own <c>--migrate</c> step, are refused everything outside the service's scope
/// (docs/security.md). Each test prints what it tried and what the server answered.
/// </summary>
public sealed class LeastPrivilegeTests(BackingServers servers, ITestOutputHelper output) : IClassFixture<BackingServers>
{
    [Fact]
    public async Task Each_services_mysql_user_has_data_rights_on_its_own_database_only()
    {
        await RunDatabaseSetupAsync("InventoryApi", "inventorydb", "inventoryapi");
        await RunDatabaseSetupAsync("UploadApi", "uploaddb", "uploadapi");
        var inventoryTable = await FirstTableAsync("inventorydb");
        var uploadTable = await FirstTableAsync("uploaddb");
        var upload = servers.MySqlConnectionStringFor("uploadapi", "uploaddb");
        var inventory = servers.MySqlConnectionStringFor("inventoryapi", "inventorydb");

        await Allowed("uploadapi reads its own table", upload, $"SELECT COUNT(*) FROM uploaddb.`{uploadTable}`");
        await Allowed("inventoryapi reads its own table", inventory, $"SELECT COUNT(*) FROM inventorydb.`{inventoryTable}`");
        await Refused("uploadapi reads inventorydb", upload, $"SELECT COUNT(*) FROM inventorydb.`{inventoryTable}`");
        await Refused("inventoryapi reads uploaddb", inventory, $"SELECT COUNT(*) FROM uploaddb.`{uploadTable}`");
        await Refused("uploadapi creates a table in its own database", upload, "CREATE TABLE uploaddb.intruder (id INT)");
        await Refused("uploadapi drops its own table", upload, $"DROP TABLE uploaddb.`{uploadTable}`");
        await Refused("inventoryapi alters its own table", inventory, $"ALTER TABLE inventorydb.`{inventoryTable}` ADD COLUMN intruder INT");
        await Refused("inventoryapi reads the user table", inventory, "SELECT COUNT(*) FROM mysql.user");
        await Refused("inventoryapi creates a database", inventory, "CREATE DATABASE intruder");
    }

    [Fact]
    public async Task Each_services_broker_user_is_limited_to_its_own_exchanges_and_queues()
    {
        // Another service's queue, as its own service would have declared it.
        await WithChannelAsync(servers.RabbitMqConnectionString, channel =>
            channel.QueueDeclareAsync("upload-api-image-processed", durable: true, exclusive: false, autoDelete: false));

        var worker = servers.RabbitMqConnectionStringFor("imageworker");
        await BrokerAllowed("imageworker declares its own queue", worker, c =>
            c.QueueDeclareAsync("image-uploaded", durable: true, exclusive: false, autoDelete: false));
        await BrokerRefused("imageworker purges uploadapi's queue", worker, c => c.QueuePurgeAsync("upload-api-image-processed"));
        await BrokerRefused("imageworker deletes uploadapi's queue", worker, c => c.QueueDeleteAsync("upload-api-image-processed"));
        await BrokerRefused("imageworker declares inventoryapi's queue", worker, c =>
            c.QueueDeclareAsync("inventory-image-processed", durable: true, exclusive: false, autoDelete: false));
        await BrokerRefused("imageworker consumes uploadapi's queue", worker, c =>
            c.BasicGetAsync("upload-api-image-processed", autoAck: false));
        await BrokerRefused("imageworker publishes an order event", worker, c =>
            c.ExchangeDeclareAsync("Reference.Contracts:OrderPlaced", ExchangeType.Fanout, durable: true));
        await BrokerRefused("uploadapi takes a job from the workers' queue", servers.RabbitMqConnectionStringFor("uploadapi"), c =>
            c.BasicGetAsync("image-uploaded", autoAck: false));
        await BrokerRefused("inventoryapi purges the workers' queue", servers.RabbitMqConnectionStringFor("inventoryapi"), c =>
            c.QueuePurgeAsync("image-uploaded"));
        await BrokerRefused("monitor takes a job from the workers' queue", servers.RabbitMqConnectionStringFor("monitor"), c =>
            c.BasicGetAsync("image-uploaded", autoAck: false));
        await BrokerRefused("monitor declares a queue", servers.RabbitMqConnectionStringFor("monitor"), c =>
            c.QueueDeclareAsync("monitor-queue", durable: false, exclusive: false, autoDelete: true));
    }

    [Fact]
    public async Task The_operator_broker_user_moves_and_drops_error_queue_messages_and_nothing_else()
    {
        // Another service's failed message, parked as MassTransit parks it, and the workers' queue.
        await WithChannelAsync(servers.RabbitMqConnectionString, async channel =>
        {
            await channel.QueueDeclareAsync("inventory-image-processed", durable: true, exclusive: false, autoDelete: false);
            await channel.QueueDeclareAsync("inventory-image-processed_error", durable: true, exclusive: false, autoDelete: false);
            await channel.QueueDeclareAsync("image-uploaded", durable: true, exclusive: false, autoDelete: false);
            await channel.ExchangeDeclareAsync("Reference.Contracts:ImageProcessed", ExchangeType.Fanout, durable: true);
            await channel.QueuePurgeAsync("inventory-image-processed");
            await channel.QueuePurgeAsync("inventory-image-processed_error");
            await channel.BasicPublishAsync("", "inventory-image-processed_error", "failed-once"u8.ToArray());
            await channel.BasicPublishAsync("", "inventory-image-processed_error", "failed-twice"u8.ToArray());
        });

        // What the console's re-drive does (UploadApi/Operations/RabbitMqQueues.cs): take, put back through the default exchange, purge.
        var @operator = servers.RabbitMqConnectionStringFor("operator");
        await BrokerAllowed("operator looks the source queue up (passive declare)", @operator, c =>
            c.QueueDeclarePassiveAsync("inventory-image-processed"));
        await BrokerAllowed("operator moves an error queue's message back to its source queue", @operator, async c =>
        {
            var message = await c.BasicGetAsync("inventory-image-processed_error", autoAck: false);
            Assert.NotNull(message);
            await c.BasicPublishAsync("", "inventory-image-processed", mandatory: true, new BasicProperties(message.BasicProperties), message.Body);
            await c.BasicAckAsync(message.DeliveryTag, multiple: false);
        });
        await BrokerAllowed("operator purges an error queue", @operator, async c =>
            Assert.Equal(1u, await c.QueuePurgeAsync("inventory-image-processed_error")));
        await WithChannelAsync(servers.RabbitMqConnectionString, async channel =>
            Assert.Equal("failed-once", System.Text.Encoding.UTF8.GetString((await channel.BasicGetAsync("inventory-image-processed", autoAck: true))!.Body.Span)));

        await BrokerRefused("operator takes a job from the workers' queue", @operator, c => c.BasicGetAsync("image-uploaded", autoAck: false));
        await BrokerRefused("operator purges the workers' queue", @operator, c => c.QueuePurgeAsync("image-uploaded"));
        await BrokerRefused("operator deletes an error queue", @operator, c => c.QueueDeleteAsync("inventory-image-processed_error"));
        await BrokerRefused("operator declares a queue", @operator, c =>
            c.QueueDeclareAsync("operator-queue", durable: false, exclusive: false, autoDelete: true));
        await BrokerRefused("operator publishes an event", @operator, c =>
            c.BasicPublishAsync("Reference.Contracts:ImageProcessed", "", mandatory: false, new BasicProperties(), "forged"u8.ToArray()).AsTask());

        // UploadApi's own user no longer touches the error queues: only the operator does.
        var upload = servers.RabbitMqConnectionStringFor("uploadapi");
        await BrokerRefused("uploadapi takes from inventoryapi's error queue", upload, c =>
            c.BasicGetAsync("inventory-image-processed_error", autoAck: false));
        await BrokerRefused("uploadapi purges inventoryapi's error queue", upload, c => c.QueuePurgeAsync("inventory-image-processed_error"));
        await BrokerRefused("uploadapi publishes through the default exchange", upload, c =>
            c.BasicPublishAsync("", "inventory-image-processed", mandatory: false, new BasicProperties(), "forged"u8.ToArray()).AsTask());
    }

    [Fact]
    public async Task Each_services_redis_user_keeps_to_its_own_keys_and_channels()
    {
        await using var worker = await ConnectionMultiplexer.ConnectAsync(servers.RedisConnectionStringFor("imageworker"));
        await using var inventory = await ConnectionMultiplexer.ConnectAsync(servers.RedisConnectionStringFor("inventoryapi"));
        await using var upload = await ConnectionMultiplexer.ConnectAsync(servers.RedisConnectionStringFor("uploadapi"));

        await RedisAllowed("imageworker counts an attempt", worker, "INCR", "imageworker:attempts:probe");
        await RedisAllowed("inventoryapi caches a product", inventory, "SET", "inventory:v1:product:probe", "{}");
        await RedisAllowed("uploadapi publishes a status change", upload, "PUBLISH", "uploads:status", "probe");
        await RedisRefused("imageworker reads the product cache", worker, "GET", "inventory:v1:product:probe");
        await RedisRefused("imageworker overwrites the product cache", worker, "SET", "inventory:v1:gen:lists", "0");
        await RedisRefused("inventoryapi reads the attempt counters", inventory, "GET", "imageworker:attempts:probe");
        await RedisRefused("inventoryapi reads another key through a script", inventory, "EVAL", "return redis.call('GET', ARGV[1])", "0", "imageworker:attempts:probe");
        await RedisRefused("uploadapi reads any key", upload, "GET", "inventory:v1:product:probe");
        await RedisRefused("uploadapi publishes elsewhere", upload, "PUBLISH", "other:channel", "probe");
        await RedisRefused("imageworker flushes everything", worker, "FLUSHALL");
        await RedisRefused("inventoryapi lists every key", inventory, "KEYS", "*");
        await RedisRefused("inventoryapi reconfigures the server", inventory, "CONFIG", "SET", "maxmemory", "0");
    }

    [Fact]
    public async Task The_cache_cannot_grow_past_maxmemory_and_keeps_the_keys_without_a_lifetime()
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync(servers.RedisConnectionString + ",allowAdmin=true");
        await using var inventory = await ConnectionMultiplexer.ConnectAsync(servers.RedisConnectionStringFor("inventoryapi"));
        var maxMemory = long.Parse((string)(await admin.GetDatabase().ExecuteAsync("CONFIG", "GET", "maxmemory"))[1]!);
        output.WriteLine($"maxmemory {maxMemory / 1024 / 1024} MB, policy {(string)(await admin.GetDatabase().ExecuteAsync("CONFIG", "GET", "maxmemory-policy"))[1]!}");
        Assert.True(maxMemory > 0, "Redis has no memory bound");

        // A generation counter (no lifetime) must outlive the flood; cache entries (with one) may go.
        var db = inventory.GetDatabase();
        await db.StringIncrementAsync("inventory:v1:gen:product:flood-probe");
        var value = new byte[64 * 1024];
        var written = (int)(2 * maxMemory / value.Length);
        for (var batch = 0; batch < written; batch += 100)
        {
            await Task.WhenAll(Enumerable.Range(batch, 100).Select(i =>
                db.StringSetAsync($"inventory:v1:list:flood:{i}", value, TimeSpan.FromMinutes(10))));
        }

        var info = (await admin.GetServers()[0].InfoAsync("memory")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        var stats = (await admin.GetServers()[0].InfoAsync("stats")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        var usedMemory = long.Parse(info["used_memory"]);
        output.WriteLine($"wrote {written} entries of 64 KB ({written * 64 / 1024} MB): used_memory {usedMemory / 1024 / 1024} MB, evicted_keys {stats["evicted_keys"]}");

        // One entry's worth of slack: Redis evicts before each write, so it may end a write above the bound.
        Assert.True(usedMemory <= maxMemory + 2 * value.Length, $"used_memory {usedMemory} is past maxmemory {maxMemory}");
        Assert.True(long.Parse(stats["evicted_keys"]) > 0);
        Assert.Equal(1, (long)await db.StringGetAsync("inventory:v1:gen:product:flood-probe"));
    }

    [Fact]
    public void No_server_password_shows_on_a_command_line()
    {
        // What `ps` shows every user of the machine: every process's arguments.
        var commandLines = Directory.GetDirectories("/proc")
            .Where(dir => int.TryParse(Path.GetFileName(dir), out _))
            .Select(dir =>
            {
                try
                {
                    return File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                }
                catch (IOException)
                {
                    return "";
                }
                catch (UnauthorizedAccessException)
                {
                    return "";
                }
            })
            .ToList();
        var passwords = BackingServers.Passwords;
        output.WriteLine($"{commandLines.Count} command lines searched for {passwords.Count} passwords");

        Assert.All(passwords, password => Assert.DoesNotContain(commandLines, line => line.Contains(password, StringComparison.Ordinal)));
    }

    private async Task RunDatabaseSetupAsync(string project, string database, string user)
    {
        var configuration = AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        start.ArgumentList.Add(Path.Combine(RepoPaths.Root, project, "bin", configuration, "net10.0", $"Reference.{project}.dll"));
        start.ArgumentList.Add("--migrate");
        start.Environment["ConnectionStrings__mysql-admin"] = servers.MySqlAdminConnectionString;
        start.Environment[$"ConnectionStrings__{database}"] = servers.MySqlConnectionStringFor(user, database);
        start.Environment["MySql__ServerVersion"] = servers.MySqlServerVersion;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{project} --migrate exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
        output.WriteLine($"{project} --migrate: set up {database} and its user {user}");
    }

    private async Task<string> FirstTableAsync(string database)
    {
        await using var connection = new MySqlConnection(servers.MySqlAdminConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = @db AND table_name <> '__EFMigrationsHistory' ORDER BY table_name LIMIT 1",
            connection);
        command.Parameters.AddWithValue("@db", database);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private async Task Allowed(string attempt, string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await new MySqlCommand(sql, connection).ExecuteNonQueryAsync();
        output.WriteLine($"allowed: {attempt} ({sql})");
    }

    private async Task Refused(string attempt, string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        var refused = await Assert.ThrowsAsync<MySqlException>(() => new MySqlCommand(sql, connection).ExecuteNonQueryAsync());
        Assert.Contains("denied", refused.Message, StringComparison.OrdinalIgnoreCase);
        output.WriteLine($"refused: {attempt} ({sql}): {refused.Message}");
    }

    private async Task BrokerAllowed(string attempt, string connectionString, Func<IChannel, Task> action)
    {
        await WithChannelAsync(connectionString, action);
        output.WriteLine($"allowed: {attempt}");
    }

    private async Task BrokerRefused(string attempt, string connectionString, Func<IChannel, Task> action)
    {
        // A refused publish surfaces as AlreadyClosedException (a subclass): the channel was closed while the publish awaited its confirm.
        var refused = await Assert.ThrowsAnyAsync<OperationInterruptedException>(() => WithChannelAsync(connectionString, action));
        Assert.Equal(403, (int?)refused.ShutdownReason?.ReplyCode);
        output.WriteLine($"refused: {attempt}: {refused.ShutdownReason?.ReplyText}");
    }

    private static async Task WithChannelAsync(string connectionString, Func<IChannel, Task> action)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(connectionString) }.CreateConnectionAsync();
        // Publisher confirms: a publish returns once the broker took it, and a refused one throws instead of closing the channel later.
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await action(channel);
    }

    private async Task RedisAllowed(string attempt, ConnectionMultiplexer redis, string command, params object[] args)
    {
        await redis.GetDatabase().ExecuteAsync(command, args);
        output.WriteLine($"allowed: {attempt} ({command} {string.Join(' ', args)})");
    }

    private async Task RedisRefused(string attempt, ConnectionMultiplexer redis, string command, params object[] args)
    {
        var refused = await Assert.ThrowsAsync<RedisServerException>(() => redis.GetDatabase().ExecuteAsync(command, args));
        Assert.Matches("NOPERM|can't access", refused.Message);
        output.WriteLine($"refused: {attempt} ({command} {string.Join(' ', args)}): {refused.Message}");
    }
}

using Reference.InventoryApi.Apis;
using Reference.InventoryApi.Infrastructure;
using Scalar.AspNetCore;

if (DatabaseSetup.IsRequested(args))
{
    var setup = Host.CreateApplicationBuilder(args);
    setup.AddServiceDefaults();
    await setup.RunDatabaseSetupAsync<InventoryDbContext>("inventorydb", DatabaseInitializer.SeedAsync);
    return;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.AddShop();

var app = builder.Build();
app.UseForwardedHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRequestBodyLimit();

if (app.Environment.IsDevelopment())
{
    app.MapOpenApi();
    app.MapScalarApiReference();
}

app.MapDefaultEndpoints();
app.MapProductsApi();
app.MapReservationsApi();
app.MapCartApi();
app.MapOrdersApi();
app.Run();

public partial class Program;

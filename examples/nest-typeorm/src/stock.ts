// The microservice side: a NATS handler asking a @Traced provider (a `driver` point).
import { Controller, Injectable } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Traced } from '@osprofiler/nestjs';
import { STOCK_SUBJECT } from './names';

@Traced()
@Injectable()
export class StockService {
  async available(item: string): Promise<number> {
    await new Promise((r) => setTimeout(r, 5)); // a slow warehouse system
    return item === 'teapot' ? 0 : 12;
  }
}

@Controller()
export class StockController {
  constructor(private readonly stock: StockService) {}

  @MessagePattern(STOCK_SUBJECT)
  async check(@Payload() item: string): Promise<{ item: string; available: number }> {
    return { item, available: await this.stock.available(item) };
  }
}
